// What a user does in the VS Code workbench, as Playwright steps. Every wait is for something on
// screen; the timeouts only bound a hang.
import * as path from 'node:path';
import { Locator, Page } from 'playwright-core';

export const UI_TIMEOUT = 60_000;

export class Workbench {
  private shot = 0;

  constructor(
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {}

  /** Saves a numbered screenshot of the whole window. */
  async screenshot(name: string): Promise<string> {
    this.shot += 1;
    const file = path.join(this.screenshotDir, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file, animations: 'disabled' });
    return file;
  }

  /** The quick input box (command palette, quick open, quick picks). */
  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Opens the command palette and returns the visible command labels that match `filter`. */
  async paletteEntries(filter: string): Promise<string[]> {
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(`>${filter}`);
    const rows = this.quickInput.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: UI_TIMEOUT });
    const labels = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? ''));
    return labels;
  }

  /** Closes whatever quick input is open. */
  async closeQuickInput(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }

  /** Closes anything a previous step may have left open (quick input, suggest list, hover). */
  async reset(): Promise<void> {
    for (let i = 0; i < 3 && (await this.quickInput.isVisible()); i += 1) await this.page.keyboard.press('Escape');
    await this.quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    if ((await this.notifications.count()) > 0) await this.clearNotifications();
    // Start from an empty editor area and a closed panel, so each step's screenshot shows its own result.
    const dirty = this.page.locator('.tab.dirty');
    while ((await dirty.count()) > 0) {
      await dirty.first().click();
      await this.runCommand('File: Revert File');
      await this.page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    }
    if ((await this.page.locator('.tab').count()) > 0) {
      await this.runCommand('View: Close All Editors');
      await this.page.locator('.tab').first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    }
    if (await this.page.locator('.part.panel').isVisible()) {
      await this.runCommand('View: Hide Panel');
      await this.page.locator('.part.panel').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    }
  }

  /** Waits until the extension reports its language server running (status bar item). */
  async waitForLanguageServer(): Promise<void> {
    await this.page.locator('.statusbar-item [aria-label*="language server running"], .statusbar-item[aria-label*="language server running"]').first().waitFor({ timeout: UI_TIMEOUT });
  }

  /** Changes a text setting in the Settings editor, as a user would, and closes the editor. */
  async setSetting(id: string, value: string): Promise<void> {
    await this.runCommand('Preferences: Open User Settings');
    const search = this.page.locator('.settings-editor .suggest-input-container textarea, .settings-editor .settings-header input').first();
    await search.waitFor({ timeout: UI_TIMEOUT });
    await search.fill(id);
    const input = this.page.locator(`.settings-editor .setting-item-contents[data-key="${id}"] input, .settings-editor [data-key="${id}"] input`).first();
    await input.waitFor({ timeout: UI_TIMEOUT });
    await input.fill(value);
    await input.press('Tab');
    await this.runCommand('View: Close Editor');
  }

  /** Ticks or clears a boolean setting in the Settings editor, and closes the editor. */
  async setBooleanSetting(id: string, checked: boolean): Promise<void> {
    await this.runCommand('Preferences: Open User Settings');
    const search = this.page.locator('.settings-editor .suggest-input-container textarea, .settings-editor .settings-header input').first();
    await search.waitFor({ timeout: UI_TIMEOUT });
    await search.fill(id);
    const box = this.page.locator(`.settings-editor [data-key="${id}"] [role="checkbox"]`).first();
    await box.waitFor({ timeout: UI_TIMEOUT });
    if ((await box.getAttribute('aria-checked')) !== String(checked)) await box.click();
    await this.page.locator(`.settings-editor [data-key="${id}"] [role="checkbox"][aria-checked="${checked}"]`).first().waitFor({ timeout: UI_TIMEOUT });
    await this.runCommand('View: Close Editor');
  }

  /** Picks the row of the open quick pick whose label contains `label` (`thenCloses`: no next step follows). */
  async pickQuickItem(label: string, { thenCloses = true } = {}): Promise<void> {
    const row = this.quickInput.locator('.monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    await row.click();
    if (thenCloses) await this.quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }

  /** Closes every notification toast. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.notifications.first().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }

  /**
   * Runs a command from the palette by its full label, e.g. "FunctionGraph: Restart Language Server".
   * Enter only once the highlighted row is that command: the palette's word filter also matches
   * other commands ("Debug: Start Debugging" matches "Debug: Start Without Debugging") and lists
   * recently used ones first, so the first row can be another command.
   */
  async runCommand(label: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(`>${label}`);
    const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const named = (rows: Locator): Locator => rows.filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    await named(this.quickInput.locator('.monaco-list-row')).waitFor({ timeout: UI_TIMEOUT });
    const focused = named(this.quickInput.locator('.monaco-list-row.focused'));
    for (let moves = 0; !(await focused.isVisible()); moves += 1) {
      if (moves === 50) throw new Error(`the palette does not highlight "${label}"`);
      await input.press('ArrowDown');
    }
    await input.press('Enter');
  }

  /** Opens a workspace file with Quick Open and waits for its editor tab to be active. */
  async openFile(relativePath: string): Promise<Locator> {
    const base = path.basename(relativePath);
    const input = this.quickInput.locator('input');
    // Enter only once the highlighted result is that file (recent files show first, for a moment).
    const found = this.quickInput.locator('.monaco-list-row.focused', { hasText: base }).first();
    const none = this.quickInput.locator('.monaco-list-row', { hasText: 'No matching results' }).first();
    for (let attempt = 1; ; attempt += 1) {
      await this.page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await input.fill(relativePath);
      await found.or(none).waitFor({ timeout: UI_TIMEOUT });
      if (await found.isVisible()) break;
      // A file created moments ago may be missing from the file list this Quick Open searched
      // ("No matching results"): a new Quick Open searches again.
      if (attempt === 5) throw new Error(`Quick Open does not find ${relativePath}`);
      await this.page.keyboard.press('Escape');
      await this.quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    }
    await input.press('Enter');
    await this.page.locator('.tab.active', { hasText: base }).waitFor({ timeout: UI_TIMEOUT });
    const editor = this.activeEditor;
    await editor.waitFor({ timeout: UI_TIMEOUT });
    return editor;
  }

  /** The focused editor's Monaco element. */
  get activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Moves the cursor to `line` (1-based), column 1, with Go to Line. */
  async goToLine(line: number, column?: number): Promise<void> {
    await this.activeEditor.locator('.view-lines').click();
    await this.page.keyboard.press('Control+G');
    const input = this.quickInput.locator('input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(column ? `:${line}:${column}` : `:${line}`);
    await input.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }

  /** The text of one editor line as displayed (1-based line numbers). */
  editorLine(line: number): Locator {
    return this.activeEditor.locator('.view-line').nth(line - 1);
  }

  /** The status bar entry whose text contains `text`. */
  statusBarItem(text: string | RegExp): Locator {
    return this.page.locator('.statusbar-item', { hasText: text });
  }

  /** The notification toasts currently shown. */
  get notifications(): Locator {
    return this.page.locator('.notification-toast');
  }

  /** The suggest widget, when open. */
  get suggestWidget(): Locator {
    return this.page.locator('.editor-widget.suggest-widget.visible');
  }

  /**
   * Every label of the open completion list. The list is virtual (only visible rows exist), so
   * this pages through it with the keyboard, as a user scrolling would, and returns to the top.
   */
  async suggestLabels(): Promise<string[]> {
    const rows = this.suggestWidget.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: UI_TIMEOUT });
    const seen = new Set<string>();
    const total = Number(await rows.first().getAttribute('aria-setsize'));
    for (let page = 0; page < 50; page += 1) {
      for (const label of await rows.locator('.label-name').allTextContents()) seen.add(label.trim());
      const focused = this.suggestWidget.locator('.monaco-list-row.focused');
      const position = Number(await focused.getAttribute('aria-posinset'));
      if (seen.size >= total || position >= total) break;
      await this.page.keyboard.press('PageDown');
      await this.suggestWidget.locator(`.monaco-list-row.focused:not([aria-posinset="${position}"])`).waitFor({ timeout: UI_TIMEOUT });
    }
    return [...seen];
  }

  /** Opens the Problems panel and returns the text of its rows. */
  async problems(containing: string | RegExp): Promise<string[]> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const row = this.page.locator('.markers-panel .monaco-list-row', { hasText: containing }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    return this.page.locator('.markers-panel .monaco-list-row').allTextContents();
  }

  /** Maximizes the open panel with its own title button (virtual lists then show more rows). */
  async maximizePanel(): Promise<void> {
    await this.page.locator('.part.panel [aria-label^="Maximize Panel"]').first().click();
    await this.page.locator('.part.panel [aria-label^="Restore Panel"]').first().waitFor({ timeout: UI_TIMEOUT });
  }

  /** Gives a maximized panel its normal size back. */
  async restorePanel(): Promise<void> {
    await this.page.locator('.part.panel [aria-label^="Restore Panel"]').first().click();
    await this.page.locator('.part.panel [aria-label^="Maximize Panel"]').first().waitFor({ timeout: UI_TIMEOUT });
  }

  /** Waits until the (open) Debug Console shows each of `texts`; returns its visible text. */
  async debugConsoleText(...texts: Array<string | RegExp>): Promise<string> {
    const repl = this.page.locator('.repl');
    for (const text of texts) {
      await repl.locator('.monaco-list-row', { hasText: text }).first().waitFor({ timeout: UI_TIMEOUT });
    }
    // The console's output list comes first; the input line's suggest list (once typed in) comes after it.
    return (await repl.locator('.monaco-list-rows').first().textContent()) ?? '';
  }
}
