// placeholder: being written this session
#define CAF_SUITE backend_forwarder
#include "caf/test/dsl.hpp"
