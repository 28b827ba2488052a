import Link from "next/link";
import { getCurrentUser } from "../lib/server-api";
import { Logo } from "./Logo";
import { NavLink } from "./NavLink";
import { SignOutButton } from "./SignOutButton";

export async function Header() {
  const user = await getCurrentUser();
  return (
    <header className="site-header">
      <div className="container header-inner">
        <Link href="/" className="brand">
          <Logo />
          <span>TicketForge</span>
        </Link>
        <nav aria-label="Main" className="main-nav">
          <NavLink href="/">Tickets</NavLink>
          <NavLink href="/tickets/new">Sell</NavLink>
          {user && <NavLink href="/tickets/mine">My tickets</NavLink>}
          {user && <NavLink href="/orders">My orders</NavLink>}
          {user && <NavLink href="/passes">My passes</NavLink>}
          {user && <NavLink href="/door">Door</NavLink>}
        </nav>
        <div className="account">
          {user ? (
            <>
              <span className="account-email" title={user.email} data-testid="current-user">
                <span className="visually-hidden">Signed in as </span>
                {user.email}
              </span>
              <SignOutButton />
            </>
          ) : (
            <>
              <Link href="/auth/signin" className="button button-ghost button-small">
                Sign in
              </Link>
              <Link href="/auth/signup" className="button button-primary button-small">
                Sign up
              </Link>
            </>
          )}
        </div>
      </div>
    </header>
  );
}
