import { runService } from "@ticketforge/common";
import { tickets } from "./service";

void runService(tickets);
