import { runService } from "@ticketforge/common";
import { orders } from "./service";

void runService(orders);
