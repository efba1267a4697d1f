DROP TABLE ledger_head;
DROP TABLE ledger;
DROP TABLE sharing_requests;
DROP TABLE grants;
DROP TABLE parties;
DROP TABLE services;
DROP TABLE taxonomy_purposes;
DROP TABLE taxonomy_categories;
