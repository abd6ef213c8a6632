export default function Forbidden() {
  return (
    <>
      <h1>403: not allowed</h1>
      <p data-testid="forbidden">Your role in the current tenant does not allow this page.</p>
    </>
  );
}
