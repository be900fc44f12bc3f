// Catch2 tests of lib/talloc internals: chunk links, traversal, pools,
// memlimit accounting and the non-recursive free.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <string>
#include <vector>

#include "talloc.h"
#include "talloc/cache.hpp"
#include "talloc/chunk.hpp"
#include "talloc/core.hpp"
#include "talloc/memlimit.hpp"
#include "talloc/pool.hpp"
#include "talloc/slab.hpp"
#include "talloc/tree.hpp"

using namespace tal;

namespace {

Chunk *chunk(const void *p) { return Chunk::from_payload(p); }

std::vector<std::string> names_of_children(const void *parent) {
    std::vector<std::string> out;
    for (Chunk *c = chunk(parent)->child; c != nullptr; c = c->next) out.push_back(name_of(c));
    return out;
}

}  // namespace

TEST_CASE("chunk header is compact and keeps payloads 16-byte aligned") {
    STATIC_REQUIRE(sizeof(Chunk) == 48);
    void *root = talloc_new(nullptr);
    for (size_t size : {1u, 7u, 16u, 33u, 100u}) {
        void *p = talloc_size(root, size);
        REQUIRE(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    }
    void *pool = talloc_pool(root, 1024);
    for (size_t size : {1u, 17u, 40u}) {
        void *p = talloc_size(pool, size);
        REQUIRE(chunk(p)->has(kFlagPoolMem));
        REQUIRE(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    }
    talloc_free(root);
}

TEST_CASE("children are linked youngest first and only the first knows its parent") {
    void *root = talloc_named_const(nullptr, 0, "root");
    void *a = talloc_named_const(root, 0, "a");
    void *b = talloc_named_const(root, 0, "b");
    void *c = talloc_named_const(root, 0, "c");
    REQUIRE(names_of_children(root) == std::vector<std::string>{"c", "b", "a"});
    REQUIRE(chunk(c)->is_first());
    REQUIRE(chunk(c)->stored_parent() == chunk(root));
    REQUIRE_FALSE(chunk(a)->is_first());
    REQUIRE(parent_of(chunk(a)) == chunk(root));

    SECTION("unlinking the first child hands the parent link on") {
        unlink_detached(chunk(c));
        REQUIRE(chunk(b)->is_first());
        REQUIRE(chunk(b)->stored_parent() == chunk(root));
        REQUIRE(parent_of(chunk(c)) == nullptr);
        link_first(chunk(root), chunk(c));
    }
    SECTION("unlinking a middle child joins its neighbours") {
        unlink_detached(chunk(b));
        REQUIRE(names_of_children(root) == std::vector<std::string>{"c", "a"});
        REQUIRE(chunk(a)->prev() == chunk(c));
        link_first(chunk(root), chunk(b));
        REQUIRE(names_of_children(root) == std::vector<std::string>{"b", "c", "a"});
    }
    talloc_free(root);
}

TEST_CASE("realloc moves a chunk and its neighbours and children follow") {
    void *root = talloc_named_const(nullptr, 0, "root");
    talloc_named_const(root, 0, "older");
    char *mid = static_cast<char *>(talloc_named_const(root, 8, "mid"));
    talloc_named_const(root, 0, "younger");
    void *kid = talloc_named_const(mid, 0, "kid");
    char *grown = talloc_realloc(root, mid, char, 100000);  // far too big to grow in place
    REQUIRE(grown != nullptr);
    REQUIRE(parent_of(chunk(kid)) == chunk(grown));
    REQUIRE(names_of_children(root) == std::vector<std::string>{"younger", "char", "older"});
    REQUIRE(talloc_parent(grown) == root);
    talloc_free(root);
}

TEST_CASE("walk visits in pre-order with depths and can prune") {
    void *root = talloc_named_const(nullptr, 0, "r");
    void *a = talloc_named_const(root, 0, "a");
    talloc_named_const(a, 0, "a1");
    talloc_named_const(a, 0, "a2");
    void *b = talloc_named_const(root, 0, "b");
    talloc_named_const(b, 0, "b1");
    std::string seen;
    walk(chunk(root), 0, [&](Chunk *c, int depth) {
        seen += std::string(name_of(c)) + ":" + std::to_string(depth) + " ";
        return std::string(name_of(c)) != "b";
    });
    REQUIRE(seen == "r:0 b:1 a:1 a2:2 a1:2 ");
    REQUIRE_FALSE(chunk(root)->has(kFlagLoop));
    REQUIRE_FALSE(chunk(a)->has(kFlagLoop));
    talloc_free(root);
}

TEST_CASE("walk handles a path far deeper than its inline stack") {
    void *root = talloc_named_const(nullptr, 0, "r");
    void *p = root;
    const int depth = 100000;
    for (int i = 0; i < depth; i++) p = talloc_named_const(p, 1, "n");
    int deepest = 0;
    size_t visited = 0;
    walk(chunk(root), 0, [&](Chunk *, int d) {
        deepest = d > deepest ? d : deepest;
        visited++;
        return true;
    });
    REQUIRE(deepest == depth);
    REQUIRE(visited == size_t(depth) + 1);
    talloc_free(root);
}

TEST_CASE("pool members are carved in order, rewound and reset") {
    void *pool = talloc_pool(nullptr, 1024);
    PoolHeader *hdr = pool_of_pool_chunk(chunk(pool));
    REQUIRE(hdr->object_count == 1);
    char *start = hdr->end;
    void *a = talloc_size(pool, 10);
    void *b = talloc_size(pool, 10);
    REQUIRE(hdr->object_count == 3);
    REQUIRE(member_start(chunk(a)) == start);
    REQUIRE(member_start(chunk(b)) == start + member_footprint(10));
    talloc_free(b);  // newest member: its space comes back
    REQUIRE(hdr->end == start + member_footprint(10));
    talloc_free(a);  // only the pool is left: everything comes back
    REQUIRE(hdr->end == start);
    REQUIRE(hdr->object_count == 1);
    // More than fits goes to malloc instead.
    void *big = talloc_size(pool, 2000);
    REQUIRE_FALSE(chunk(big)->has(kFlagPoolMem));
    talloc_free(pool);
}

TEST_CASE("a pool chunk finds its pool through its owner slot like a member") {
    void *pool = talloc_pool(nullptr, 1024);
    void *member = talloc_size(pool, 16);
    PoolHeader *hdr = pool_of_pool_chunk(chunk(pool));
    REQUIRE(owner_slot(chunk(pool)) == hdr);
    REQUIRE(owner_slot(chunk(member)) == hdr);
    REQUIRE(pool_for_parent(chunk(pool)) == hdr);
    REQUIRE(pool_for_parent(chunk(member)) == hdr);
    talloc_free(pool);
}

TEST_CASE("freeing a parent releases children from several pools and from malloc") {
    void *pool_a = talloc_pool(nullptr, 1024);
    void *pool_b = talloc_pool(nullptr, 1024);
    PoolHeader *a = pool_of_pool_chunk(chunk(pool_a));
    PoolHeader *b = pool_of_pool_chunk(chunk(pool_b));
    char *a_start = a->end, *b_start = b->end;
    void *parent = talloc_named_const(pool_a, 0, "parent");
    // Freed youngest first: c4 (pool b), c3 (malloc), c2 (b), then c1, c6,
    // c5 (a), then the parent, which leaves pool a empty.
    void *c1 = talloc_size(pool_a, 8);
    void *c2 = talloc_size(pool_b, 8);
    void *c3 = talloc_size(nullptr, 8);
    void *c4 = talloc_size(pool_b, 8);
    void *c5 = talloc_size(parent, 8);
    void *c6 = talloc_size(parent, 8);
    for (void *c : {c1, c2, c3, c4}) talloc_steal(parent, c);
    REQUIRE(a->object_count == 5);
    REQUIRE(b->object_count == 3);
    void *keep = talloc_size(pool_b, 8);   // b's newest member stays
    talloc_free(parent);
    REQUIRE(a->object_count == 1);
    REQUIRE(a->end == a_start);            // only the pool is left: reset
    REQUIRE(b->object_count == 2);
    REQUIRE(b->end == b_start + 3 * member_footprint(8));  // keep is still the newest
    (void)c5;
    (void)c6;
    talloc_free(keep);
    REQUIRE(b->end == b_start);
    talloc_free(pool_a);
    talloc_free(pool_b);
}

TEST_CASE("a pool made under pool memory is carved from it and given back to it") {
    void *outer = talloc_pool(nullptr, 4096);
    PoolHeader *o = pool_of_pool_chunk(chunk(outer));
    char *start = o->end;
    void *inner = talloc_pool(outer, 1000);
    Chunk *ic = chunk(inner);
    REQUIRE(ic->has(kFlagPool));
    REQUIRE(ic->has(kFlagNested));
    REQUIRE_FALSE(ic->has(kFlagPoolMem));
    REQUIRE(member_start(ic) == start);   // where a member would be
    REQUIRE(outer_slot(ic) == o);
    REQUIRE(member_guard_ok(ic));
    REQUIRE(o->end == start + nested_pool_footprint(1000));
    REQUIRE(o->object_count == 2);
    PoolHeader *i = pool_of_pool_chunk(ic);
    REQUIRE(owner_slot(ic) == i);          // its own children come from it
    void *m = talloc_size(inner, 8);
    REQUIRE(owner_slot(chunk(m)) == i);
    REQUIRE(i->object_count == 2);
    REQUIRE(o->object_count == 2);
    talloc_free(inner);                    // and m with it: the outer pool is reset
    REQUIRE(o->object_count == 1);
    REQUIRE(o->end == start);

    // As upstream, a nested pool freed while it is the newest of several
    // does not rewind the outer pool (its end is not where upstream looks).
    void *a = talloc_size(outer, 8);
    void *newest = talloc_pool(outer, 100);
    char *end = o->end;
    talloc_free(newest);
    REQUIRE(o->object_count == 2);
    REQUIRE(o->end == end);
    talloc_free(a);
    REQUIRE(o->end == start);
    talloc_free(outer);
}

TEST_CASE("a pool outlives its free while a member lives elsewhere") {
    void *root = talloc_new(nullptr);
    void *pool = talloc_pool(root, 256);
    char *s = talloc_strdup(pool, "survivor");
    talloc_steal(root, s);
    PoolHeader *hdr = pool_of_pool_chunk(chunk(pool));
    talloc_free(pool);
    REQUIRE(hdr->object_count == 1);  // the member keeps the block
    REQUIRE(std::string(s) == "survivor");
    talloc_free(root);  // frees s, and with it the block
}

TEST_CASE("memlimit accounting uses the reference's units") {
    void *root = talloc_new(nullptr);
    void *limited = talloc_new(root);
    talloc_named_const(limited, 10, "pre-existing");
    REQUIRE(talloc_set_memlimit(limited, 1000) == 0);
    MemLimit *l = owned_limit(chunk(limited));
    REQUIRE(l != nullptr);
    REQUIRE(l->cur_size == (0 + kRefHeaderSize) + (10 + kRefHeaderSize));
    void *p = talloc_size(limited, 100);
    REQUIRE(l->cur_size == 96 + 106 + 196);
    talloc_free(p);
    REQUIRE(l->cur_size == 96 + 106);
    void *pool = talloc_pool(limited, 200);
    REQUIRE(l->cur_size == 96 + 106 + 200 + kRefHeaderSize + kRefPoolHeaderSize);
    talloc_size(pool, 50);  // carved from the pool: not counted again
    REQUIRE(l->cur_size == 96 + 106 + 200 + 128);
    void *outside = talloc_size(root, 300);
    talloc_steal(limited, outside);
    REQUIRE(l->cur_size == 96 + 106 + 328 + 396);
    talloc_steal(root, outside);
    REQUIRE(l->cur_size == 96 + 106 + 328);
    REQUIRE(talloc_size(limited, 1000) == nullptr);
    talloc_free(root);
    REQUIRE_FALSE(limits_active());
}

namespace {

std::vector<std::string> g_order;

int record(void *p) {
    g_order.push_back(talloc_get_name(p));
    return 0;
}

int refuse_once(void *p) {
    g_order.push_back(std::string("refused ") + talloc_get_name(p));
    talloc_set_destructor(p, nullptr);
    return -1;
}

}  // namespace

TEST_CASE("free runs destructors parent first, children youngest first") {
    g_order.clear();
    void *root = talloc_named_const(nullptr, 0, "root");
    void *a = talloc_named_const(root, 0, "a");
    void *a1 = talloc_named_const(a, 0, "a1");
    void *b = talloc_named_const(root, 0, "b");
    for (void *p : {root, a, a1, b}) talloc_set_destructor(p, record);
    REQUIRE(talloc_free(root) == 0);
    REQUIRE(g_order == std::vector<std::string>{"root", "b", "a", "a1"});
}

TEST_CASE("a child that refuses to die moves to the freed chunk's parent") {
    g_order.clear();
    void *top = talloc_named_const(nullptr, 0, "top");
    void *mid = talloc_named_const(top, 0, "mid");
    void *stubborn = talloc_named_const(mid, 0, "stubborn");
    talloc_set_destructor(stubborn, refuse_once);
    REQUIRE(talloc_free(mid) == 0);
    REQUIRE(g_order == std::vector<std::string>{"refused stubborn"});
    REQUIRE(talloc_parent(stubborn) == top);
    REQUIRE(talloc_total_blocks(top) == 2);
    talloc_free(top);
}

namespace {

void *free_deep_chain(void *depth_arg) {
    int depth = *static_cast<int *>(depth_arg);
    void *root = talloc_named_const(nullptr, 0, "root");
    void *p = root;
    for (int i = 0; i < depth; i++) p = talloc_named_const(p, 1, "link");
    size_t blocks = talloc_total_blocks(root);
    FILE *devnull = fopen("/dev/null", "w");
    talloc_report(root, devnull);
    fclose(devnull);
    talloc_free(root);
    return reinterpret_cast<void *>(blocks);
}

}  // namespace

TEST_CASE("a million-deep chain is counted, reported and freed on a 64 KiB stack") {
    // Recursion over the chain would need tens of megabytes of stack.
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    int depth = 1000000;
    REQUIRE(pthread_create(&thread, &attr, free_deep_chain, &depth) == 0);
    void *blocks = nullptr;
    pthread_join(thread, &blocks);
    pthread_attr_destroy(&attr);
    REQUIRE(reinterpret_cast<size_t>(blocks) == size_t(depth) + 1);
}

namespace {

void *churn_and_exit(void *) {
    // Fill this thread's cache: freed blocks below 512 bytes stay with the
    // thread (a bounded number per size class) until it exits.
    void *top = talloc_named_const(nullptr, 0, "churn");
    for (int i = 0; i < 4000; i++) talloc_size(top, 100 + i % 300);
    talloc_free(top);
    return t_cache != nullptr && cache_held_bytes(t_cache) > 12 * 1024 ? top : nullptr;
}

}  // namespace

TEST_CASE("a thread's block cache goes back to malloc when the thread exits") {
    struct mallinfo2 before = mallinfo2();
    pthread_t thread;
    REQUIRE(pthread_create(&thread, nullptr, churn_and_exit, nullptr) == 0);
    void *filled = nullptr;
    pthread_join(thread, &filled);
    REQUIRE(filled != nullptr);  // the cache really held memory
    struct mallinfo2 after = mallinfo2();
    // What the cache held (over 12 KiB) is free again; allow for malloc's
    // own per-thread bookkeeping.
    long kept = static_cast<long>(after.uordblks) - static_cast<long>(before.uordblks);
    REQUIRE(kept < 8 * 1024);
}

namespace {

void *free_one_class_only(void *) {
    // Blocks of one size class freed over and over, never allocated from
    // the cache again (as strings grown by realloc are): the class keeps at
    // most kCacheClassBytes, the rest goes back to malloc.
    void *top = talloc_named_const(nullptr, 0, "top");
    for (int i = 0; i < 1000; i++) talloc_size(top, 200);
    talloc_free(top);
    size_t held = t_cache != nullptr ? cache_held_bytes(t_cache) : 0;
    return reinterpret_cast<void *>(held);
}

}  // namespace

TEST_CASE("each size class of the block cache is bounded on its own") {
    pthread_t thread;
    REQUIRE(pthread_create(&thread, nullptr, free_one_class_only, nullptr) == 0);
    void *held = nullptr;
    pthread_join(thread, &held);
    REQUIRE(reinterpret_cast<size_t>(held) > 0);
    REQUIRE(reinterpret_cast<size_t>(held) <= kCacheClassBytes + block_bytes(0));
}

TEST_CASE("a chunk grown by realloc twice keeps its contents, size and parent") {
    void *top = talloc_named_const(nullptr, 0, "top");
    int *a = nullptr;
    for (int len = 1; len <= 3000; len++) {
        a = talloc_realloc(top, a, int, len);
        REQUIRE(a != nullptr);
        a[len - 1] = len;
        REQUIRE(talloc_get_size(a) == sizeof(int) * size_t(len));
        REQUIRE(talloc_parent(a) == top);
    }
    for (int i = 0; i < 3000; i++) REQUIRE(a[i] == i + 1);
    // Shrinking after the slack and growing again.
    a = talloc_realloc(top, a, int, 10);
    REQUIRE(talloc_get_size(a) == 10 * sizeof(int));
    a = talloc_realloc(top, a, int, 20);
    REQUIRE(talloc_total_size(top) == 20 * sizeof(int));
    talloc_free(top);
}

// ---------------------------------------------------------------------------
// Slabs (slab.hpp).  Each case runs in a fresh thread, so the thread's slab
// heap starts empty.

namespace {

template <typename F>
void in_thread(F f) {
    pthread_t thread;
    auto run = [](void *arg) -> void * {
        (*static_cast<F *>(arg))();
        return nullptr;
    };
    // Checked after the join: Catch2 is not thread-safe, f() uses it.
    int rc = pthread_create(&thread, nullptr, run, &f);
    if (rc == 0) pthread_join(thread, nullptr);
    REQUIRE(rc == 0);
}

bool on_slab(const void *p) { return is_slab_cell(chunk(p)); }

int g_aborts = 0;
void count_abort(const char *) { g_aborts++; }

}  // namespace

TEST_CASE("the flags word holds the state bits and the slab index") {
    REQUIRE((kIndexMask & 0xff) == 0);
    REQUIRE((kIndexMask | 0xff) == kFlagMask);
    REQUIRE(kFlagMask <= 0xffff);
    REQUIRE(kSlabMaxCells == 63);
}

TEST_CASE("the check word comes first and names its address") {
    REQUIRE(offsetof(Chunk, check) == 0);
    void *top = talloc_named_const(nullptr, 0, "top");
    void *a = talloc_size(top, 16), *b = talloc_size(top, 1000);
    void *pool = talloc_pool(top, 1024);
    void *m = talloc_size(pool, 16);
    for (void *p : {top, a, b, pool, m}) {
        CHECK(chunk(p)->check == check_for(chunk(p)));
        CHECK(chunk_intact(chunk(p)));
    }
    // A member's guard word, first in its prefix, is keyed with its own address.
    CHECK(guard_slot(chunk(m)) == keyed_mix(&guard_slot(chunk(m))));
    // Two chunks' check words differ: a value read from one does not forge another.
    CHECK(chunk(a)->check != chunk(b)->check);
    Chunk *ca = chunk(a);
    talloc_free(a);
    // Freed: no value derived from the secret is left, the stamp is public.
    CHECK(ca->check != check_for(ca));
    CHECK(is_freed_stamp(ca));
    talloc_free(top);
}

TEST_CASE("a destructor and the flags share a word without touching each other") {
    void *p = talloc_size(nullptr, 8);
    Chunk *tc = chunk(p);
    uint16_t flags = tc->flags;
    auto d = [](void *) { return 0; };
    talloc_set_destructor(p, +d);
    CHECK(tc->destructor() == +d);
    CHECK(tc->flags == flags);
    tc->flags = static_cast<uint16_t>(tc->flags | kFlagLoop);
    CHECK(tc->destructor() == +d);
    tc->flags = flags;
    talloc_set_destructor(p, nullptr);
    CHECK(!tc->has_destructor());
    talloc_free(p);
}

TEST_CASE("slab cells are reused and empty slabs go back to malloc") {
    size_t before = slab_count();
    in_thread([] {
        void *top = talloc_named_const(nullptr, 0, "top");
        void *a = talloc_size(top, 16);
        CHECK(on_slab(a));
        CHECK(block_bytes(talloc_get_size(a)) == 64);
        talloc_free(a);
        void *b = talloc_size(top, 16);
        CHECK(b == a);   // the freed cell comes back first
        size_t base = slab_count();
        void *wide = talloc_named_const(top, 0, "wide");
        for (int i = 0; i < 10000; i++) REQUIRE(on_slab(talloc_size(wide, 16)));
        CHECK(slab_count() >= base + 10000 / kSlabMaxCells);
        talloc_free(wide);
        // Only the current slab of the class and a few spares are kept.
        CHECK(slab_count() <= base + 1 + kSlabStash);
        talloc_free(top);
    });
    CHECK(slab_count() == before);   // thread exit released the rest
}

TEST_CASE("realloc moves a slab chunk across classes and keeps its links") {
    in_thread([] {
        void *top = talloc_named_const(nullptr, 0, "top");
        char *p = static_cast<char *>(talloc_size(top, 16));
        REQUIRE(on_slab(p));
        void *kid = talloc_size(p, 8);
        for (int i = 0; i < 16; i++) p[i] = char(i);
        char *q = static_cast<char *>(talloc_realloc_size(top, p, 8));   // same class: in place
        CHECK(q == p);
        q = static_cast<char *>(talloc_realloc_size(top, q, 16));
        CHECK(q == p);
        q = static_cast<char *>(talloc_realloc_size(top, q, 40));        // 96-byte class
        REQUIRE(q != nullptr);
        CHECK(on_slab(q));
        CHECK(block_bytes(talloc_get_size(q)) == 96);
        q = static_cast<char *>(talloc_realloc_size(top, q, 300));       // malloc'd
        REQUIRE(q != nullptr);
        CHECK_FALSE(on_slab(q));
        q = static_cast<char *>(talloc_realloc_size(top, q, 16));        // stays (shrinks < 1k)
        for (int i = 0; i < 16; i++) CHECK(q[i] == char(i));
        CHECK(talloc_parent(q) == top);
        CHECK(talloc_parent(kid) == q);
        char *r = static_cast<char *>(talloc_size(top, 80));              // 128-byte class
        REQUIRE(on_slab(r));
        r = static_cast<char *>(talloc_realloc_size(top, r, 4));         // shrinks out of the class
        CHECK(on_slab(r));
        CHECK(block_bytes(talloc_get_size(r)) == 64);
        talloc_free(top);
    });
}

namespace {

struct Handover {
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    std::vector<void *> items;
    bool done = false;
};

void *free_handed_over(void *arg) {
    auto *h = static_cast<Handover *>(arg);
    for (;;) {
        pthread_mutex_lock(&h->mutex);
        std::vector<void *> batch;
        batch.swap(h->items);
        bool done = h->done;
        pthread_mutex_unlock(&h->mutex);
        for (void *p : batch) talloc_free(p);
        if (done && batch.empty()) return nullptr;
    }
}

}  // namespace

TEST_CASE("cells freed by another thread while the owner allocates come back") {
    size_t before = slab_count();
    in_thread([] {
        Handover h;
        pthread_t freer;
        REQUIRE(pthread_create(&freer, nullptr, free_handed_over, &h) == 0);
        void *mine = talloc_named_const(nullptr, 0, "mine");
        for (int round = 0; round < 200; round++) {
            std::vector<void *> batch;
            for (int i = 0; i < 100; i++) {
                void *p = talloc_size(nullptr, 16 + 16 * (i % 3));
                memset(p, 0x5a, 16);
                batch.push_back(p);
                talloc_size(mine, 16);   // the owner keeps allocating meanwhile
            }
            pthread_mutex_lock(&h.mutex);
            h.items.insert(h.items.end(), batch.begin(), batch.end());
            pthread_mutex_unlock(&h.mutex);
        }
        pthread_mutex_lock(&h.mutex);
        h.done = true;
        pthread_mutex_unlock(&h.mutex);
        pthread_join(freer, nullptr);
        talloc_free(mine);

        // Then in order: cells all freed by the other thread are what the
        // owner allocates from next, rather than new slabs.
        Handover h2;
        std::vector<void *> batch;
        for (int i = 0; i < 20000; i++) batch.push_back(talloc_size(nullptr, 16 + 16 * (i % 3)));
        h2.items = batch;
        h2.done = true;
        REQUIRE(pthread_create(&freer, nullptr, free_handed_over, &h2) == 0);
        pthread_join(freer, nullptr);
        size_t held = slab_count();
        void *again = talloc_named_const(nullptr, 0, "again");
        for (int i = 0; i < 20000; i++) talloc_size(again, 16 + 16 * (i % 3));
        CHECK(slab_count() < held + 10);
        talloc_free(again);
    });
    CHECK(slab_count() == before);
}

namespace {

void *allocate_and_exit(void *) {
    auto *out = new std::vector<void *>;
    for (int i = 0; i < 1000; i++) out->push_back(talloc_size(nullptr, 16 + 16 * (i % 4)));
    return out;
}

// Chunks a thread made before it exited (the caller deletes the vector).
std::vector<void *> *cells_of_exited_thread() {
    pthread_t thread;
    REQUIRE(pthread_create(&thread, nullptr, allocate_and_exit, nullptr) == 0);
    void *ret = nullptr;
    pthread_join(thread, &ret);
    return static_cast<std::vector<void *> *>(ret);
}

}  // namespace

TEST_CASE("slabs of an exited thread are freed with their last cell") {
    size_t before = slab_count();
    auto *cells = cells_of_exited_thread();
    CHECK(slab_count() > before);   // abandoned, still holding live cells
    size_t slabs_seen = slab_count();
    // Freed from threads of their own: what a thread's cache keeps goes
    // back to the slabs when it exits, so the count depends on nothing else.
    in_thread([&] {
        for (size_t i = 0; i + 1 < cells->size(); i++) talloc_free((*cells)[i]);
    });
    CHECK(slab_count() <= slabs_seen);
    CHECK(slab_count() >= before);
    in_thread([&] { talloc_free(cells->back()); });
    CHECK(slab_count() == before);
    delete cells;
}

TEST_CASE("a forked child frees the cells of an exited thread's slabs") {
    size_t before = slab_count();
    auto *cells = cells_of_exited_thread();
    REQUIRE(slab_count() > before);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Freeing into abandoned slabs takes their mutex, which must not
        // have been left locked by the fork; a hang ends with SIGALRM.
        // (From a thread of its own, as above.)
        alarm(20);
        in_thread([&] {
            for (void *p : *cells) talloc_free(p);
        });
        bool all_slabs_freed = slab_count() == before;
        delete cells;   // the child's copy: valgrind checks the child for leaks too
        _exit(all_slabs_freed ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    in_thread([&] {
        for (void *p : *cells) talloc_free(p);
    });
    CHECK(slab_count() == before);
    delete cells;
}

TEST_CASE("a double free of a slab chunk is detected") {
    // It reads freed memory on purpose, which the checkers report.
#if defined(__SANITIZE_ADDRESS__)
    return;
#endif
    if (g_slab_valgrind) return;
    in_thread([] {
        void *top = talloc_named_const(nullptr, 0, "top");
        void *p = talloc_size(top, 16);
        REQUIRE(on_slab(p));
        REQUIRE(talloc_free(p) == 0);
        talloc_set_abort_fn(count_abort);
        g_aborts = 0;
        CHECK(talloc_free(p) == -1);
        CHECK(g_aborts == 1);
        talloc_set_abort_fn(nullptr);
        talloc_free(top);
    });
}

TEST_CASE("a steal writes through no damaged neighbour and reports it") {
    // Children of `from`, youngest first: z, y, x.  `to` has one child, w.
    void *top = talloc_named_const(nullptr, 0, "top");
    void *from = talloc_named_const(top, 0, "from");
    void *to = talloc_named_const(top, 0, "to");
    void *x = talloc_named_const(from, 0, "x");
    void *y = talloc_named_const(from, 0, "y");
    void *z = talloc_named_const(from, 0, "z");
    void *w = talloc_named_const(to, 0, "w");
    auto damage = [](void *p) { chunk(p)->check ^= 1; };
    auto repair = [](void *p) { chunk(p)->check ^= 1; };
    talloc_set_abort_fn(count_abort);
    g_aborts = 0;

    SECTION("intact neighbours: the steal is made in place") {
        CHECK(talloc_steal(to, y) == y);
        CHECK(names_of_children(from) == std::vector<std::string>{"z", "x"});
        CHECK(names_of_children(to) == std::vector<std::string>{"y", "w"});
        CHECK(chunk(x)->prev() == chunk(z));
        CHECK(chunk(w)->prev() == chunk(y));
        CHECK(talloc_parent(y) == to);
        CHECK(g_aborts == 0);
    }
    SECTION("a damaged older sibling is not written to") {
        damage(z);
        CHECK(talloc_steal(to, y) == y);
        CHECK(g_aborts == 1);
        repair(z);
        CHECK(chunk(z)->next == chunk(y));  // left as it was
        CHECK(talloc_parent(y) == to);
        CHECK(chunk(x)->prev() == chunk(z));
        chunk(z)->next = chunk(x);
    }
    SECTION("a damaged younger sibling is not written to; the list is cut there") {
        damage(x);
        CHECK(talloc_steal(to, y) == y);
        CHECK(g_aborts == 1);
        repair(x);
        CHECK(chunk(x)->prev() == chunk(y));  // left as it was
        CHECK(chunk(z)->next == nullptr);
        CHECK(names_of_children(to) == std::vector<std::string>{"y", "w"});
        chunk(z)->next = chunk(x);
        chunk(x)->set_prev(chunk(z));
    }
    SECTION("a damaged old parent is not written to") {
        damage(from);
        CHECK(talloc_steal(to, z) == z);
        CHECK(g_aborts == 1);
        repair(from);
        CHECK(chunk(from)->child == chunk(z));  // left as it was
        CHECK(chunk(y)->is_first());
        CHECK(chunk(y)->stored_parent() == chunk(from));
        CHECK(names_of_children(to) == std::vector<std::string>{"z", "w"});
        chunk(from)->child = chunk(y);
    }
    SECTION("a damaged youngest child of the new parent is reported and cut off") {
        damage(w);
        CHECK(talloc_steal(to, y) == y);
        CHECK(g_aborts == 1);
        repair(w);
        CHECK(names_of_children(from) == std::vector<std::string>{"z", "x"});
        CHECK(names_of_children(to) == std::vector<std::string>{"y"});
        CHECK(chunk(w)->stored_parent() == chunk(to));  // left as it was
        chunk(y)->next = chunk(w);
        chunk(w)->set_prev(chunk(y));
    }
    talloc_set_abort_fn(nullptr);
    CHECK(talloc_total_blocks(top) == 7);
    talloc_free(top);
}
