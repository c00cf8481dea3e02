/* forkboard-version.h as 1.0.0 generated it: frozen with forkboard.h. */
#ifndef FORKBOARD_VERSION_H
#define FORKBOARD_VERSION_H

#define FB_VERSION_MAJOR 1
#define FB_VERSION_MINOR 0
#define FB_VERSION_PATCH 0
#define FB_VERSION_STRING "1.0.0"

#endif /* FORKBOARD_VERSION_H */
