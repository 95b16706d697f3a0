// A downstream C++ program built against the installed package.
#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    namespace sr = spinner_rollback;
    auto store = sr::VersionStore::open(argv[1]);
    const char *state = R"({"schemaVersion":1,"instances":1,"containers":[{"name":"web","image":{"reference":"shop:1"}}]})";
    auto r = store->record("shop", state);
    if (r.outcome != spinner_rollback::Outcome::created || std::strcmp(sr::version_string(), SPR_VERSION_STRING) != 0) return 1;
    std::puts(r.to_json().c_str());
    return 0;
}
