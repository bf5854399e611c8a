/* api/registry.c — the one list of resources the server serves. */
#include "api/api.h"

void api_register_all(void)
{
    api_ops_register();
    api_auth_register();
    api_org_register();
    api_request_register();
    api_batch_register();
    api_comment_register();
    api_attachment_register();
    api_work_order_register();
    api_sla_register();
    api_webhook_register();
    api_report_register();
    api_platform_register();
    api_docs_register();
    api_import_register();
    api_custody_register();
    api_custody_mail_register();
    api_custody_lost_register();
    api_custody_archive_register();
    api_audit_register();
    api_register_register();
    api_tenancy_register();
    api_vocabulary_register();
    api_callback_register();
    api_survey_register();
    api_visit_register();
    api_flow_register();
    api_duty_register();
    api_capa_register();
    api_patrol_register();
}
