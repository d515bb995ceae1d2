// placeholder: being written this session
#define CAF_SUITE routes
#include "caf/test/dsl.hpp"
