// Catch2 tests of lib/tevent internals that have no C-visible behaviour of
// their own: the backoff policy behind the loop's two shortcuts.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "tevent/backoff.hpp"

using tev::Backoff;

namespace {

// How many chances pass before the shortcut is worth trying again.
int chances_let_pass(Backoff &b) {
    int passed = 0;
    while (!b.worth_trying()) passed++;
    return passed;
}

}  // namespace

TEST_CASE("a shortcut that never failed is always worth trying", "[backoff]") {
    Backoff b;
    for (int i = 0; i < 1000; i++) REQUIRE(b.worth_trying());
    b.succeeded();
    REQUIRE(b.worth_trying());
}

TEST_CASE("each failure in a row lets twice as many chances pass, up to 256", "[backoff]") {
    Backoff b;
    int expected[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256};
    for (int want : expected) {
        REQUIRE(b.worth_trying());
        b.failed();
        REQUIRE(chances_let_pass(b) == want);
    }
}

TEST_CASE("each success halves what the next failure lets pass", "[backoff]") {
    Backoff b;
    for (int i = 0; i < 6; i++) {
        b.failed();
        chances_let_pass(b);
    }
    // Now at 32: one success brings the next failure's wait to 2 x 16.
    b.succeeded();
    b.failed();
    REQUIRE(chances_let_pass(b) == 32);
    // Enough successes bring it back to the start.
    for (int i = 0; i < 10; i++) b.succeeded();
    b.failed();
    REQUIRE(chances_let_pass(b) == 1);
}

TEST_CASE("alternating success and failure settles at a short wait", "[backoff]") {
    Backoff b;
    int last = 0;
    for (int i = 0; i < 100; i++) {
        b.succeeded();
        b.failed();
        last = chances_let_pass(b);
    }
    // backoff -> (backoff / 2) * 2 (or 1 from zero): it does not grow.
    REQUIRE(last == 1);
}
