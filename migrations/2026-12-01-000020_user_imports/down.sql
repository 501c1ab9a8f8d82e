DROP TABLE user_imports;
