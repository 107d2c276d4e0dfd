/*
 * Hardware virtualization behind one face (DESIGN.md section 1): each backend
 * (kernel/vmx/, kernel/svm/) fills a struct virt_ops; generic code never sees
 * a VMCS field or a VMCB offset. The backend is chosen at boot from CPUID.
 */
#ifndef KEEL_VIRT_H
#define KEEL_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#define VIRT_REASON_MAX   200
#define VIRT_FEATURES_MAX 240

/* What a backend found on the boot CPU. */
struct virt_caps {
    bool usable;                     /* everything Keel requires is there */
    char reason[VIRT_REASON_MAX];    /* when !usable: what is missing and what to do */
    char features[VIRT_FEATURES_MAX]; /* when usable: the features, for the boot report */
    bool slat_1g_pages;
    bool slat_2m_pages;
    uint32_t address_space_ids; /* VPIDs or ASIDs available (0: none) */
};

struct virt_ops {
    const char *name; /* "vmx" or "svm" */
    /* True when CPUID says this vendor's extension exists at all. */
    bool (*present)(void);
    /* Reads capabilities on the calling CPU; fills caps (usable or reason). */
    void (*probe)(struct virt_caps *caps);
    /* Turns the extension on for the calling CPU. Returns 0, or -1 with a
     * reason in buf (of size VIRT_REASON_MAX). */
    int (*cpu_enable)(char *buf);
    /* Turns it off again on the calling CPU (when another CPU failed). */
    void (*cpu_disable)(void);
};

extern const struct virt_ops vmx_ops;
extern const struct virt_ops svm_ops;

/* The backend in use, or NULL when virtualization is unavailable. */
extern const struct virt_ops *virt;
extern struct virt_caps virt_caps;

/* Chooses the backend, enables it on every online CPU and prints the
 * "keel: virtualization: ..." line. Never fails the boot: without usable
 * hardware support Keel keeps running without guests. */
void virt_init(void);

#endif
