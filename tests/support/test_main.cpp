// The one translation unit that holds CAF's test runner main().
#define CAF_SUITE sova_test_main
#include "caf/test/unit_test_impl.hpp"
