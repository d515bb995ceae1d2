// placeholder: being written this session
#define CAF_SUITE service_announcer
#include "caf/test/dsl.hpp"
