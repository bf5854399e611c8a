/* api/api.h — the register functions of every resource. */
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
void api_webhook_register(void);
void api_report_register(void);
void api_platform_register(void);
void api_docs_register(void);
void api_import_register(void);
void api_custody_register(void);
void api_custody_mail_register(void);
void api_custody_lost_register(void);
void api_custody_archive_register(void);
void api_audit_register(void);
void api_register_register(void); /* register columns and paper registers */
void api_tenancy_register(void);
void api_vocabulary_register(void);
void api_callback_register(void);
void api_survey_register(void);
void api_visit_register(void);
/* Workflow figures: work-order refusals and the rework rate (api/flow.c). */
void api_flow_register(void);
void api_duty_register(void); /* duty, handovers (api/handover.c), incidents (api/incident.c) */
void api_capa_register(void);
void api_patrol_register(void);

/* Calls every api_<resource>_register() (api/registry.c). */
void api_register_all(void);

#endif
