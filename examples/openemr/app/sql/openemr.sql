-- A small slice of OpenEMR's schema: what the demo pages touch. The rotation's slot users get
-- their privileges on this database only, through the role named in rotation.yaml.
CREATE DATABASE openemr CHARACTER SET utf8mb4;
USE openemr;
CREATE TABLE globals (gl_name VARCHAR(63) NOT NULL, gl_index INT NOT NULL DEFAULT 0, gl_value VARCHAR(255) NOT NULL,
  PRIMARY KEY (gl_name, gl_index));
INSERT INTO globals (gl_name, gl_value) VALUES ('openemr_name', 'OpenEMR (Tresor demo)');
CREATE TABLE users_secure (id BIGINT PRIMARY KEY, username VARCHAR(255) NOT NULL UNIQUE, password VARCHAR(255) NOT NULL);
CREATE TABLE patient_data (pid BIGINT PRIMARY KEY, fname VARCHAR(255) NOT NULL, lname VARCHAR(255) NOT NULL, DOB DATE NOT NULL);
CREATE TABLE log (id BIGINT AUTO_INCREMENT PRIMARY KEY, date DATETIME NOT NULL, event VARCHAR(255) NOT NULL,
  user VARCHAR(255) NOT NULL, patient_id BIGINT);
INSERT INTO patient_data (pid, fname, lname, DOB)
  SELECT seq, ELT(1 + seq % 5, 'Ada', 'Grace', 'Alan', 'Edsger', 'Barbara'),
         ELT(1 + seq % 4, 'Lovelace', 'Hopper', 'Turing', 'Liskov'), DATE '1950-01-01' + INTERVAL seq * 97 DAY
  FROM seq_1_to_50;
