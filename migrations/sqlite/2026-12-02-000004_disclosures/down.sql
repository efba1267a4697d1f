DROP TABLE decision_categories;
DROP TABLE incident_duties;
DROP TABLE incidents;
DROP TABLE legal_requests;
