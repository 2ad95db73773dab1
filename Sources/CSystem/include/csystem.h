// What Glibc's Swift module leaves out and the discovery core needs: extended attributes, which a file
// xvf replaces must keep (ACLs, SELinux labels, user.*).
#ifndef XVF_CSYSTEM_H
#define XVF_CSYSTEM_H
#include <sys/xattr.h>
#endif
