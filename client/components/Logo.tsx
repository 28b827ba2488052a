export function Logo() {
  return (
    <svg className="logo" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="#4338ca" />
      <path
        d="M8 11a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v2.2a2.8 2.8 0 0 0 0 5.6V21a2 2 0 0 1-2 2H10a2 2 0 0 1-2-2v-2.2a2.8 2.8 0 0 0 0-5.6z"
        fill="#fff"
      />
      <path d="M18 10v12" stroke="#4338ca" strokeWidth="1.6" strokeDasharray="2 2" />
    </svg>
  );
}
