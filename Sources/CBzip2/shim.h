// Debian's libbz2-dev (scripts/install-test-tools installs it).
#include <bzlib.h>
