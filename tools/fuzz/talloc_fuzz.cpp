// libFuzzer harness: the fuzzer's bytes choose a sequence of talloc
// operations (allocate, pools, free, free_children, steal, realloc,
// reference, unlink), applied to the library and to a plain model of the
// hierarchy; any disagreement or memory error is a crash.
#include <cstdio>
#include <cstdlib>

#include "fuzz_require.hpp"
// talloc_model.hpp checks itself with MODEL_REQUIRE (the Catch2 test maps it
// to REQUIRE); here a failed check is a crash.
#define MODEL_REQUIRE(cond) FUZZ_REQUIRE(cond)
#include "../../tests/talloc/internal/talloc_model.hpp"

namespace {

// Hands out choices from the input; zeros once it is used up.
struct ByteChooser {
    const uint8_t **data;
    size_t *left;
    size_t operator()(size_t n) const {
        size_t v = 0;
        for (int i = 0; i < 2 && *left > 0; i++) {
            v = (v << 8) | **data;
            (*data)++;
            (*left)--;
        }
        return v % n;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t left = size;
    talloc_model::Model<ByteChooser> model(ByteChooser{&data, &left});
    int steps = 0;
    while (left > 0 && steps++ < 2000) {
        model.step();
        model.check();
    }
    return 0;
}
