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
    api_audit_register();
    api_capa_register();
    api_patrol_register();
}
