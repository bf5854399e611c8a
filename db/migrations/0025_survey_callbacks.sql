-- 0025: the survey loop closed (issue 9, RULES §3.1.8, §3.2.7–9, §3.3.1).
--
-- A callback task's subject is either a resolved request (as before) or a survey response
-- whose 不太满意 answer asked for a call (kind 'survey'): exactly one of request_id and
-- survey_response_id.  A survey task's attempts touch no request: 不满意 / 极不满意 opens a
-- complaint (channel survey, follow_up_request_id), the rest finish the task.  One open
-- task per response (every 不太满意 answer of the household points at it).  The month's
-- callback figures count request tasks only.
ALTER TABLE callback_tasks ALTER COLUMN request_id DROP NOT NULL;
ALTER TABLE callback_tasks ADD COLUMN survey_response_id uuid;
ALTER TABLE callback_tasks ADD CONSTRAINT callback_tasks_survey_response_fkey
    FOREIGN KEY (org_id, survey_response_id) REFERENCES survey_responses (org_id, id);
ALTER TABLE callback_tasks DROP CONSTRAINT callback_tasks_kind_check;
ALTER TABLE callback_tasks ADD CONSTRAINT callback_tasks_kind_check
    CHECK (kind IN ('repair', 'complaint', 'other', 'survey'));
ALTER TABLE callback_tasks ADD CONSTRAINT callback_tasks_subject
    CHECK (num_nonnulls(request_id, survey_response_id) = 1
           AND (kind = 'survey') = (survey_response_id IS NOT NULL));
CREATE UNIQUE INDEX callback_tasks_one_open_survey ON callback_tasks (survey_response_id)
    WHERE state = 'open';
ALTER TABLE callback_attempts ALTER COLUMN request_id DROP NOT NULL;

-- Follow-ups still pending from before this migration get their task now (due 24 h after
-- the answer, as the desk's callback target), one per response.
INSERT INTO callback_tasks (org_id, project_id, survey_response_id, kind, min_role, resolved_at,
                            due_at, created_by)
SELECT r.org_id, r.project_id, r.id, 'survey', 'agent', min(f.created_at),
       min(f.created_at) + interval '24 hours', r.entered_by
  FROM survey_followups f JOIN survey_responses r ON r.id = f.response_id
 WHERE f.kind = 'callback' AND f.state = 'pending'
 GROUP BY r.org_id, r.project_id, r.id, r.entered_by;
UPDATE survey_followups f SET state = 'opened', callback_task_id = t.id
  FROM callback_tasks t
 WHERE f.kind = 'callback' AND f.state = 'pending' AND t.survey_response_id = f.response_id
   AND t.state = 'open';
ALTER TABLE survey_followups ADD CONSTRAINT survey_followups_callback_task_fkey
    FOREIGN KEY (org_id, callback_task_id) REFERENCES callback_tasks (org_id, id);
ALTER TABLE survey_followups ADD CONSTRAINT survey_followups_callback_opened
    CHECK (kind <> 'callback' OR (state = 'opened' AND callback_task_id IS NOT NULL));
CREATE INDEX survey_followups_task ON survey_followups (callback_task_id)
    WHERE callback_task_id IS NOT NULL;

-- The project's satisfaction target (RULES §3.2.9 "company quality target", in per cent;
-- NULL: the default, 90 %): a department whose satisfaction in a reported campaign is below
-- it gets a corrective action.
ALTER TABLE projects ADD COLUMN survey_target_percent integer
    CHECK (survey_target_percent BETWEEN 1 AND 100);

-- A visit's follow-up corrective action, a real link (the free CA number stays readable
-- for records entered before; new records name the action by id or number).
ALTER TABLE visit_records ADD COLUMN corrective_action_id uuid;
ALTER TABLE visit_records ADD CONSTRAINT visit_records_corrective_action_fkey
    FOREIGN KEY (org_id, corrective_action_id) REFERENCES corrective_actions (org_id, id);
UPDATE visit_records v SET corrective_action_id = a.id
  FROM corrective_actions a
 WHERE a.org_id = v.org_id AND a.number = v.corrective_action_ref AND a.project_id = v.project_id;

INSERT INTO schema_version (version) VALUES (25);
