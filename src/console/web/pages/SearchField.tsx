/** The search box of a list page: a labelled input that reports every keystroke. */
export function SearchField(props: {
  placeholder: string;
  value: string;
  onInput: (value: string) => void;
  testId: string;
}) {
  return (
    <label class="field">
      <span>Search</span>
      <input
        type="search"
        placeholder={props.placeholder}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        data-testid={props.testId}
      />
    </label>
  );
}
