// placeholder: being written this session
#define CAF_SUITE backend_pool
#include "caf/test/dsl.hpp"
