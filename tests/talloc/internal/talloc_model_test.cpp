// Model-based random testing of the talloc API (see talloc_model.hpp).
#include <catch2/catch.hpp>

#include <random>

#define MODEL_REQUIRE(cond) REQUIRE(cond)
#include "talloc_model.hpp"

namespace {

struct SeededChooser {
    std::mt19937 *rng;
    size_t operator()(size_t n) const { return std::uniform_int_distribution<size_t>(0, n - 1)(*rng); }
};

}  // namespace

TEST_CASE("random operations agree with a model of the hierarchy") {
    for (uint32_t seed = 1; seed <= 60; seed++) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        talloc_model::Model<SeededChooser> model(SeededChooser{&rng});
        for (int i = 0; i < 600; i++) {
            INFO("step " << i);
            model.step();
            model.check();
        }
    }
}
