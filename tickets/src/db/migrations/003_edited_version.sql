-- The version the seller's last edit gave the ticket (0: never edited). An order priced at an
-- older version was priced at an older title or price, so its reservation is refused
-- (docs/design.md §4 rule 6). Reservations, releases and sales raise `version` but leave this
-- one: an order priced while orders had not heard of the previous hold's release yet is priced
-- at the ticket as it still is, and is reserved.
alter table tickets add column edited_version integer not null default 0;
-- When a ticket of an earlier release was last edited is not known: every version it reached
-- counts as an edit, so an order priced at an older one is refused rather than charged an old price.
update tickets set edited_version = version;
alter table tickets add constraint tickets_edited_version check (edited_version between 0 and version);
