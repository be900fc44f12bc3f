// Process-wide state: the secret, null-context tracking, the autofree
// context and leak reports at exit.  None of it is touched by ordinary
// allocation beyond reading two words, so threads that keep to their own
// hierarchies (with null tracking off, as talloc documents) never contend.
#include <sys/auxv.h>
#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core.hpp"
#include "diagnostics.hpp"
#include "report.hpp"

namespace tal {

// Until the constructor below has run (no chunk exists before it), fixed
// values; the multiplier is odd so the mix loses no bits.
Secret g_secret = {0x5a17c0de2f00d001ull, 0x9e3779b97f4a7c15ull};

void *g_null_context = nullptr;
FreeFill g_free_fill = {false, 0};
void *g_autofree_context = nullptr;

uint32_t public_magic() {
    unsigned __int128 m = static_cast<unsigned __int128>(g_secret.mul_key ^ 0x243f6a8885a308d3ull) *
                          (g_secret.xor_key | 1);
    uint32_t v = static_cast<uint32_t>(static_cast<uint64_t>(m >> 64));
    return v != 0 ? v : 1;
}

namespace {

enum class LeakReport { None, Summary, Full };
LeakReport g_leak_report = LeakReport::None;
bool g_atexit_registered = false;

__attribute__((constructor)) void read_free_fill() {
    const char *fill = getenv("TALLOC_FREE_FILL");
    if (fill == nullptr) return;
    g_free_fill.value = static_cast<unsigned char>(strtoul(fill, nullptr, 0));
    g_free_fill.enabled = true;
}

// Before any chunk exists: a constructor of this library runs before those
// of the programs and libraries that use it.  128 bits from the kernel.
__attribute__((constructor)) void make_secret() {
    uint64_t key[2];
    if (getrandom(key, sizeof(key), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(key))) {
        // No entropy pool yet (early boot): the kernel's 16 per-process bytes.
        const auto *random = reinterpret_cast<const unsigned char *>(getauxval(AT_RANDOM));
        if (random == nullptr) return;
        memcpy(key, random, sizeof(key));
    }
    g_secret.xor_key = key[0];
    g_secret.mul_key = key[1] | 1;
}

void at_exit() {
    if (g_autofree_context != nullptr) {
        free_ptr(g_autofree_context, "talloc autofree at exit");
        g_autofree_context = nullptr;
    }
    if (g_null_context == nullptr || total_size(g_null_context) == 0) return;
    if (g_leak_report == LeakReport::Full) report_to_file(g_null_context, 0, -1, stderr);
    else if (g_leak_report == LeakReport::Summary) report_to_file(g_null_context, 0, 1, stderr);
}

void register_at_exit() {
    if (g_atexit_registered) return;
    g_atexit_registered = true;
    atexit(at_exit);
}

int autofree_destructor(void *) {
    g_autofree_context = nullptr;
    return 0;
}

}  // namespace

void enable_null_tracking(bool adopt_autofree) {
    if (g_null_context != nullptr) return;
    g_null_context = allocate(nullptr, 0, "null_context");
    if (adopt_autofree && g_autofree_context != nullptr) reparent(nullptr, g_null_context, g_autofree_context);
}

void disable_null_tracking() {
    if (g_null_context != nullptr) {
        // Its children stay allocated, as parentless top-level chunks.
        Chunk *nc = Chunk::from_payload(g_null_context);
        if (Chunk *first = nc->child) first->set_first_of(nullptr);
        nc->child = nullptr;
        void *old = g_null_context;
        g_null_context = nullptr;
        free_ptr(old, "talloc_disable_null_tracking");
    }
}

void enable_leak_report(bool full) {
    enable_null_tracking(true);
    g_leak_report = full ? LeakReport::Full : LeakReport::Summary;
    register_at_exit();
}

void *autofree_context() {
    if (g_autofree_context == nullptr) {
        g_autofree_context = allocate(nullptr, 0, "autofree_context");
        if (g_autofree_context == nullptr) return nullptr;
        set_destructor(g_autofree_context, autofree_destructor);
        register_at_exit();
    }
    return g_autofree_context;
}

}  // namespace tal
