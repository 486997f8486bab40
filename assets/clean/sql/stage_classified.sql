-- The month's raw rows, classified.
CREATE OR REPLACE TEMP TABLE _classified AS
{classified}
