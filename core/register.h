/*
 * core/register.h — the paper registers' own columns on a request (RULES §2 item 5, the
 * appendix: 客户希望/要求, 受理单位意见, 处理意见, 主管评估意见, 业主反馈情况): which role may
 * write and read each column, and the three registers that can be exported as the paper form
 * (报修受理登记表, 投诉受理登记表, 投诉处理记录表) with their exact columns in the form's order.
 * Pure: no I/O.
 */
#ifndef CORE_REGISTER_H
#define CORE_REGISTER_H

#include <stddef.h>

#include "core/roles.h"
#include "core/strtab.h"

typedef enum {
    REG_CUSTOMER_WISH,         /* "customer_wish"         客户希望/要求 */
    REG_RECEIVING_OPINION,     /* "receiving_opinion"     受理单位意见 */
    REG_HANDLING_OPINION,      /* "handling_opinion"      处理意见 */
    REG_SUPERVISOR_ASSESSMENT, /* "supervisor_assessment" 主管评估意见 */
    REG_OWNER_FEEDBACK,        /* "owner_feedback"        业主反馈情况 */
    REG__COUNT
} register_field_t;

/* core_register_field_name(), _from_string(), _list(). */
CORE_STRTAB_DECLS(core_register_field, register_field_t)
extern const char *const core_register_field_names[REG__COUNT + 1];
/* The column's heading on the forms (客户希望/要求, ...); NULL out of range. */
const char *core_register_field_label(register_field_t f);
/* The longest note a column takes (characters). */
#define REG_NOTE_MAX 4000

/* Who may write a column (after AZ_REGISTER_WRITE let the role act on the request at all):
 * customer service records what the customer asks (客户希望/要求) and the receiving unit's
 * opinion; the handling opinion also the technician of the handling department; the
 * supervisor's assessment only a supervisor or above on the ladder; the owner's feedback the
 * desk (from a call or callback) or the resident themself.  1 / 0. */
int core_register_may_write(role_t role, register_field_t f);
/* Who may read a column on a request they may read: staff who read internal notes see all;
 * residents see what they asked for and their own feedback, not the desk's opinions; an
 * integration sees none.  1 / 0. */
int core_register_may_read(role_t role, register_field_t f);

/* ---- the paper registers ---- */

typedef enum {
    REGF_REPAIR_INTAKE,      /* "repair-intake"      报修受理登记表 (003 四) */
    REGF_COMPLAINT_INTAKE,   /* "complaint-intake"   投诉受理登记表 (003 六) */
    REGF_COMPLAINT_HANDLING, /* "complaint-handling" 投诉处理记录表 (003 七) */
    REGF__COUNT
} register_form_t;

CORE_STRTAB_DECLS(core_register_form, register_form_t)

typedef struct register_column {
    const char *key;   /* the JSON member of a row */
    const char *label; /* the form's heading */
} register_column_t;

/* The form's title (报修受理登记表, ...), NULL out of range. */
const char *core_register_form_title(register_form_t f);
/* The request type the form lists ("repair" or "complaint"). */
const char *core_register_form_type(register_form_t f);
/* The form's columns in the form's order; *n their number.  NULL out of range. */
const register_column_t *core_register_form_columns(register_form_t f, size_t *n);

#endif
