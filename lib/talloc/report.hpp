// talloc_report and friends: text reports of a hierarchy.
#pragma once

#include <cstdio>

namespace tal {

using ReportCallback = void (*)(const void *ptr, int depth, int max_depth, int is_ref, void *private_data);

void report_depth_cb(const void *ptr, int depth, int max_depth, ReportCallback cb, void *private_data);
void report_to_file(const void *ptr, int depth, int max_depth, FILE *f);
void show_parents(const void *ptr, FILE *f);

// global.cpp
void enable_null_tracking(bool adopt_autofree);
void disable_null_tracking();
void enable_leak_report(bool full);
void *autofree_context();

}  // namespace tal
