// libxml2 (Debian: libxml2-dev). Debian builds it with ICU; its ICU headers clash with the ICU that
// Foundation brings ("'UErrorCode' has different definitions"), so hide the ICU part before the
// other headers are read. Sonde never touches the encoding-handler fields that need it.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/tree.h>
