/* Shared by manifest.c (lines, sections, messages) and manifest_keys.c
 * (values and keys); not part of the manifest API. */
#ifndef KEEL_USER_MANIFEST_INTERNAL_H
#define KEEL_USER_MANIFEST_INTERNAL_H

#include "manifest.h"

/* A piece of the text: not NUL-terminated. */
struct mf_text {
    const char *p;
    size_t len;
};

enum mf_key {
    MF_KEY_IMAGE,
    MF_KEY_CMDLINE,
    MF_KEY_MODULES,
    MF_KEY_MEMORY,
    MF_KEY_CPUS,
    MF_KEY_AUTOSTART,
    MF_KEY_ON_EXIT,
    MF_KEY_AFFINITY,
    MF_KEY_COUNT
};

enum mf_state {
    MF_OUTSIDE,  /* before the first section */
    MF_IN_VM,    /* in the section of vm */
    MF_SKIPPING, /* in a section that was rejected: its lines are ignored */
};

/* The parser's state: on the stack of manifest_parse, nothing global. */
struct mf_parser {
    struct manifest *m;
    unsigned line;
    enum mf_state state;
    struct manifest_vm *vm;          /* the section's VM in MF_IN_VM, else NULL */
    unsigned key_line[MF_KEY_COUNT]; /* where the section set each key; 0: not yet */
};

/* Records "manifest line <line>: <problem>" and, when vm is not NULL, makes
 * vm invalid with "line <line>: <problem>" as its reason (the first one). */
void mf_error(struct mf_parser *p, struct manifest_vm *vm, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define mf_report(p, ...) mf_error((p), (p)->vm, (p)->line, __VA_ARGS__)

/* 'text' for messages: at most 32 characters, then "...", anything not
 * printable ASCII as '?'. */
#define MF_EXCERPT_MAX 40
void mf_excerpt(char *buf, struct mf_text t);

bool mf_is_blank(char c);
/* The first c in t, or NULL (memchr, which kstring.h lacks). */
const char *mf_find(struct mf_text t, char c);
struct mf_text mf_trim(struct mf_text t);
/* True when name is a valid VM or module name; else reports why, naming it
 * as what ("VM", "image", "module"). */
bool mf_check_name(struct mf_parser *p, const char *what, struct mf_text name);

/* Handles "key = value" (key trimmed, rest: everything after '=') in the
 * current VM section. */
void mf_assign(struct mf_parser *p, struct mf_text key, struct mf_text rest);

#endif
