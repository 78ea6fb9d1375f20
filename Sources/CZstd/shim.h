// Debian's libzstd-dev (scripts/install-test-tools installs it).
#include <zstd.h>
