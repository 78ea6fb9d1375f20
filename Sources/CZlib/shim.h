// Debian's zlib1g-dev (scripts/install-test-tools installs it).
#include <zlib.h>
