// Chunk names: constant strings, or formatted ".name" children.
#include "core.hpp"
#include "diagnostics.hpp"
#include "strings.hpp"

namespace tal {

const char *name_of(const Chunk *tc) {
    const char *n = tc->raw_name();
    if (n == kReferenceName) return ".reference";
    return n != nullptr ? n : "UNNAMED";
}

const char *set_name_v(Chunk *tc, const char *fmt, va_list ap) {
    char *name = str_vformat(tc->payload(), fmt, ap);
    if (name != nullptr) Chunk::from_payload(name)->set_raw_name(".name");
    tc->set_raw_name(name);
    return name;
}

}  // namespace tal
