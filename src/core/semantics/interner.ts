// Interns structural keys into small integers so that node identity and weight signatures
// compare in O(1) and keys of parents stay short however deep the tree is.

export class Interner {
  private readonly ids = new Map<string, number>();

  intern(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(key, id);
    }
    return id;
  }
}
