// Walking a hierarchy without recursion: the depth of a talloc tree is the
// user's to choose (a million-deep chain must work), so traversals keep their
// path on the heap and fall back to walking sibling links if that fails.
#pragma once

#include <cstdlib>

#include "chunk.hpp"

namespace tal {

class PathStack {
public:
    PathStack() = default;
    PathStack(const PathStack &) = delete;
    PathStack &operator=(const PathStack &) = delete;
    ~PathStack() {
        if (data_ != inline_) free(data_);
    }

    void push(Chunk *c) {
        if (missing_ == 0 && (size_ < cap_ || grow())) {
            data_[size_++] = c;
        } else {
            missing_++;  // recovered by parent_of() when popping
        }
    }
    // Parent frame of `current` (the chunk whose children just finished).
    Chunk *pop(Chunk *current) {
        if (missing_ > 0) {
            missing_--;
            return parent_of(current);
        }
        return data_[--size_];
    }
    bool empty() const { return size_ == 0 && missing_ == 0; }

private:
    bool grow() {
        size_t cap = cap_ * 2;
        Chunk **data;
        if (data_ == inline_) {
            data = static_cast<Chunk **>(malloc(cap * sizeof(Chunk *)));
            if (data != nullptr) __builtin_memcpy(data, inline_, sizeof(inline_));
        } else {
            data = static_cast<Chunk **>(realloc(data_, cap * sizeof(Chunk *)));
        }
        if (data == nullptr) return false;
        data_ = data;
        cap_ = cap;
        return true;
    }

    Chunk *inline_[64];
    Chunk **data_ = inline_;
    size_t size_ = 0;
    size_t cap_ = 64;
    size_t missing_ = 0;
};

// Pre-order walk of root's subtree.  visit(chunk, depth) returns whether to
// descend into the chunk's children.  Chunks on the current path carry
// kFlagLoop, so a hierarchy made cyclic by misuse is walked once, like the
// reference does; a root that is already on a path is not visited at all.
template <class Visit>
void walk(Chunk *root, int depth, Visit &&visit) {
    if (root->has(kFlagLoop)) return;
    if (!visit(root, depth) || root->child == nullptr) return;
    PathStack path;
    Chunk *parent = root;
    root->flags |= kFlagLoop;
    Chunk *c = root->child;
    depth++;
    for (;;) {
        if (c != nullptr && !linked_ok(c)) c = nullptr;   // damaged: reported, the list ends there
        if (c == nullptr) {
            parent->flags &= ~kFlagLoop;
            if (parent == root) return;
            c = parent->next;
            parent = path.pop(parent);
            depth--;
            continue;
        }
        if (!c->has(kFlagLoop) && visit(c, depth) && c->child != nullptr) {
            c->flags |= kFlagLoop;
            path.push(parent);
            parent = c;
            c = c->child;
            depth++;
            continue;
        }
        c = c->next;
    }
}

// Is `ancestor` the chunk itself or one of its first kMaxDepth ancestors?
bool is_ancestor_or_self(const Chunk *tc, const void *ancestor_payload, int max_depth = kMaxDepth);

}  // namespace tal
