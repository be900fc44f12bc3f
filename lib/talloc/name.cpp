// Chunk names: constant strings, or formatted ".name" children.
#include "core.hpp"
#include "diagnostics.hpp"
#include "strings.hpp"

namespace tal {

const char *set_name_v(Chunk *tc, const char *fmt, va_list ap) {
    char *name = str_vformat(tc->payload(), fmt, ap);
    if (name != nullptr) Chunk::from_payload(name)->set_raw_name(".name");
    tc->set_raw_name(name);
    return name;
}

void *allocate_named_v(const void *ctx, size_t size, const char *location, const char *fmt, va_list ap) {
    void *ptr = allocate(ctx, size, nullptr);
    if (ptr == nullptr) return nullptr;
    if (set_name_v(Chunk::from_payload(ptr), fmt, ap) == nullptr) {
        free_chunk(Chunk::from_payload(ptr), location);
        return nullptr;
    }
    return ptr;
}

}  // namespace tal
