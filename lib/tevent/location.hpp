// "file:line" of a call site inside the library, the form tevent_req_print()
// and profiles show and debug messages carry.  Upstream's read
// "../../tevent_req.c:123" (its build directory is two levels below the
// library's source); ours read the same way with our file names, whatever
// directory the library was built in: no build machine's path in the binary
// or in the programs' logs.
#pragma once

#define TEV_STR2(x) #x
#define TEV_STR(x) TEV_STR2(x)
#define TEV_LOCATION "../../" __FILE_NAME__ ":" TEV_STR(__LINE__)
