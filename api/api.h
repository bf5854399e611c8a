/* api/api.h — the register functions of every resource, and background workers. */
#ifndef API_API_H
#define API_API_H

void api_auth_register(void);
void api_ops_register(void);
void api_org_register(void);
void api_request_register(void);
void api_batch_register(void);
void api_comment_register(void);
void api_attachment_register(void);
void api_work_order_register(void);
void api_sla_register(void);
void api_custody_register(void);

/* Calls every api_<resource>_register() (api/registry.c). */
void api_register_all(void);
/* Background workers inside the server (the SLA sweeper); safe to call when none. */
void api_background_start(void);
void api_background_stop(void);

#endif
