CREATE INDEX ledger_subject ON ledger(subject);
CREATE INDEX ledger_action ON ledger(action);
DROP INDEX ledger_subject_seq;
DROP INDEX ledger_action_seq;
