// Debian's libisal-dev (scripts/install-test-tools installs it): ISA-L's igzip, a gzip
// decoder about twice as fast as zlib's on this machine.
#include <isa-l/igzip_lib.h>
