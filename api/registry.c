/* api/registry.c — the one list of resources the server serves, and its background work. */
#include "api/api.h"
#include "api/config.h"
#include "api/sla_engine.h"

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
    api_custody_register();
}

void api_background_start(void)
{
    sla_background_start(g_config.sweep_interval_ms);
}

void api_background_stop(void)
{
    sla_background_stop();
}
