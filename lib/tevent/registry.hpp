// The process-wide list of backends (registry.cpp).
#pragma once

#include "layout.hpp"

namespace tev {

// ---- backends registry (registry.cpp) ------------------------------------------
bool register_backend(const char *name, const tevent_ops *ops);
const tevent_ops *find_ops(const char *name);  // nullptr: the default backend
const char **backend_list(TALLOC_CTX *mem_ctx);
void set_default_backend(const char *name);

}  // namespace tev
