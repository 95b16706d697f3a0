// Re-seals a store's secrets (rotate_key with reseal) in small batches, to be
// killed mid-way by test_reseal_kill.cpp. Usage: reseal_worker <location> <options json>
#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdio>

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <location> <options json>\n", argv[0]);
        return 2;
    }
    try {
        auto store = spinner_rollback::VersionStore::open(argv[1], spinner_rollback::StoreOptions::from_json(argv[2]));
        spinner_rollback::RotateOptions o;
        o.reseal = true;
        o.batch_size = 3;
        std::printf("%s\n", store->rotate_key(o).to_json().c_str());
        return 0;
    } catch (const spinner_rollback::Error &e) {
        std::fprintf(stderr, "reseal_worker: %s\n", e.what());
        return 1;
    }
}
