// Uses every macro of talloc.h from C++.  Compiled by header_check.py for
// C++98 .. C++20 with -Wall -Wextra -Werror, and built and run against
// libtalloc by meson (abi-header-cpp).  C++98 only: no nullptr, no auto.
#include <cstring>
#include <talloc.h>

#if TALLOC_VERSION_MAJOR != 2 || TALLOC_VERSION_MINOR != 5
#error "talloc.h must describe talloc 2.5"
#endif

namespace {

struct item {
    int value;
    char *label;
};

int failures = 0;

#define EXPECT(cond)                                                          \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s: check failed: %s\n", __location__, #cond); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

int destructor_calls = 0;

int item_destructor(item *it) {
    destructor_calls += it->value;
    return 0;
}

extern "C" int c_linkage_destructor(struct item *it) {
    destructor_calls += 100 * it->value;
    return 0;
}

void depth_cb(const void *, int, int, int, void *) {}
void log_fn(const char *) {}

// The typed macros inside a template, where the type is dependent.
template <typename T>
T *make_array(const void *ctx, unsigned n) {
    T *a = talloc_zero_array(ctx, T, n);
    a = talloc_realloc(ctx, a, T, n + 1);
    a = talloc_realloc_zero(ctx, a, T, n + 2);
    return a;
}

template <typename T>
T *steal_typed(const void *ctx, T *p) {
    return talloc_steal(ctx, p);
}

class Owner {
public:
    explicit Owner(const void *parent) : ctx_(talloc_new(parent)) {}
    ~Owner() { TALLOC_FREE(ctx_); }
    TALLOC_CTX *ctx() const { return ctx_; }

private:
    TALLOC_CTX *ctx_;
    Owner(const Owner &);
    Owner &operator=(const Owner &);
};

char *vformat(const void *ctx, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
char *vformat(const void *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = talloc_vasprintf(ctx, fmt, ap);
    va_end(ap);
    return s;
}

char *vappend(char *s, bool buffer, const char *fmt, ...) PRINTF_ATTRIBUTE(3, 4);
char *vappend(char *s, bool buffer, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s = buffer ? talloc_vasprintf_append_buffer(s, fmt, ap) : talloc_vasprintf_append(s, fmt, ap);
    va_end(ap);
    return s;
}

void body(TALLOC_CTX *root) {
    EXPECT(talloc_version_major() == TALLOC_VERSION_MAJOR);
    EXPECT(talloc_version_minor() == TALLOC_VERSION_MINOR);
    (void)talloc_test_get_magic();

    EXPECT(std::strcmp(talloc_get_name(root), "root cpp") == 0);
    Owner owner(root);
    EXPECT(talloc_parent(owner.ctx()) == root);

    item *it = talloc(root, item);
    it->value = 2;
    it->label = talloc_strdup(it, "l");
    item *z = talloc_zero(root, item);
    EXPECT(z->value == 0);
    EXPECT(talloc_get_type(it, item) == it);
    EXPECT(talloc_get_type_abort(it, item) == it);
    talloc_set_type(z, item);
    EXPECT(talloc_find_parent_bytype(it->label, item) == it);
    EXPECT(talloc_find_parent_byname(it->label, "item") == it);
    EXPECT(talloc_check_name(z, "item") == z);
    talloc_set_name_const(z, "zed");
    EXPECT(std::strcmp(talloc_get_name(z), "zed") == 0);
    EXPECT(talloc_set_name(z, "%s", "item") != NULL);
    EXPECT(std::strcmp(talloc_parent_name(it->label), "item") == 0);
    EXPECT(talloc_is_parent(it->label, root) == 1);

    void *raw = talloc_size(root, 3);
    EXPECT(talloc_get_size(raw) == 3);
    raw = talloc_zero_size(root, 3);
    raw = talloc_named(root, 1, "n%d", 1);
    raw = talloc_named_const(root, 1, "n");
    raw = _talloc(root, 1);
    item *p = talloc_ptrtype(root, p);
    EXPECT(talloc_get_size(p) == sizeof(item));
    item *copy = static_cast<item *>(talloc_memdup(root, it, sizeof(*it)));
    EXPECT(copy->value == 2);

    item *arr = talloc_array(root, item, 2);
    EXPECT(talloc_array_length(arr) == 2);
    arr = talloc_array_ptrtype(root, arr, 5);
    EXPECT(talloc_array_length(arr) == 5);
    raw = talloc_array_size(root, 2, 2);
    raw = talloc_realloc_size(root, raw, 9);
    EXPECT(talloc_get_size(raw) == 9);
    raw = talloc_realloc_fn(root, raw, 0);
    EXPECT(raw == NULL);
    long *longs = make_array<long>(root, 3);
    EXPECT(talloc_array_length(longs) == 5 && longs[4] == 0);

    void *pool = talloc_pool(root, 512);
    EXPECT(pool != NULL);
    item *pooled = talloc_pooled_object(root, item, 1, 16);
    EXPECT(pooled != NULL);

    talloc_set_destructor(it, item_destructor);
    talloc_set_destructor(copy, c_linkage_destructor);
    item *stolen = talloc_steal(owner.ctx(), it);
    EXPECT(stolen == it && talloc_parent(it) == owner.ctx());
    EXPECT(steal_typed(root, it) == it);
    item *moving = it;
    item *moved = talloc_move(owner.ctx(), &moving);
    EXPECT(moved == it && moving == NULL);
    EXPECT(talloc_reparent(owner.ctx(), root, it) == it);
    item *ref = talloc_reference(owner.ctx(), it);
    EXPECT(ref == it && talloc_reference_count(it) == 1);
    EXPECT(talloc_unlink(owner.ctx(), it) == 0);
    EXPECT(talloc_increase_ref_count(it) == 0);
    EXPECT(talloc_unlink(NULL, it) == 0);
    TALLOC_FREE(it);
    EXPECT(it == NULL && destructor_calls == 2);
    EXPECT(talloc_free(copy) == 0);
    EXPECT(destructor_calls == 202);

    char *s = talloc_strdup(root, "a");
    s = talloc_strdup_append(s, "b");
    s = talloc_strdup_append_buffer(s, "c");
    s = talloc_strndup_append(s, "dX", 1);
    s = talloc_strndup_append_buffer(s, "eX", 1);
    EXPECT(std::strcmp(s, "abcde") == 0);
    s = talloc_strndup(root, "xyz", 2);
    s = talloc_asprintf(root, "%d", 1);
    s = talloc_asprintf_append(s, "%d", 2);
    s = talloc_asprintf_append_buffer(s, "%d", 3);
    EXPECT(std::strcmp(s, "123") == 0);
    s = vformat(root, "%s", "v");
    s = vappend(s, false, "%d", 4);
    s = vappend(s, true, "%d", 5);
    EXPECT(std::strcmp(s, "v45") == 0);
    char *buf = talloc_strdup(root, "");
    talloc_asprintf_addbuf(&buf, "%s", "q");
    talloc_asprintf_addsep(&buf, "/", "%s", "r");
    EXPECT(buf != NULL && std::strcmp(buf, "q/r") == 0);
    TALLOC_FREE(buf);

#if TALLOC_DEPRECATED
    item *old = talloc_p(root, item);
    old = talloc_zero_p(root, item);
    item *olds = talloc_array_p(root, item, 1);
    olds = talloc_realloc_p(root, olds, item, 2);
    char *appended = talloc_append_string(root, static_cast<char *>(NULL), "x");
    appended = talloc_append_string(root, appended, "y");
    EXPECT(std::strcmp(appended, "xy") == 0 && talloc_array_length(olds) == 2);
    EXPECT(talloc_destroy(old) == 0);
#endif

    EXPECT(talloc_total_blocks(root) > 1 && talloc_total_size(root) > 0);
    talloc_report_depth_cb(root, 0, 1, depth_cb, NULL);
    if (FILE *devnull = fopen("/dev/null", "w")) {
        talloc_report_depth_file(root, 0, 1, devnull);
        talloc_report_full(root, devnull);
        talloc_report(root, devnull);
        talloc_show_parents(s, devnull);
        fclose(devnull);
    }
    talloc_set_log_fn(log_fn);
    talloc_set_log_stderr();
    talloc_set_log_fn(NULL);
    talloc_set_abort_fn(NULL);
    talloc_enable_null_tracking();
    talloc_enable_null_tracking_no_autofree();
    talloc_disable_null_tracking();
    if (failures < 0) {
        talloc_enable_leak_report();
        talloc_enable_leak_report_full();
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    EXPECT(talloc_set_memlimit(root, 1 << 20) == 0);
    EXPECT(talloc_autofree_context() != NULL);
#pragma GCC diagnostic pop
    talloc_free_children(owner.ctx());
}

}  // namespace

int main() {
    TALLOC_CTX *root = talloc_init("root %s", "cpp");
    body(root);
    EXPECT(talloc_free(root) == 0);
    return failures == 0 ? 0 : 1;
}
