import { decodeForm, FormDecodeError } from './form.js';

describe('decodeForm', () => {
  it('decodes the SDK example of SANDBOX.md §3.3', () => {
    const body =
      'amount=2000&currency=usd&customer=cus_Q5a8Lrk2Jz0m1A&payment_method=pm_card_visa&confirm=true&off_session=true&metadata[order_id]=ord_123&expand[0]=latest_charge';
    expect({ ...decodeForm(body), metadata: { ...(decodeForm(body).metadata as object) } }).toEqual({
      amount: '2000',
      currency: 'usd',
      customer: 'cus_Q5a8Lrk2Jz0m1A',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      off_session: 'true',
      metadata: { order_id: 'ord_123' },
      expand: ['latest_charge'],
    });
  });

  it('builds arrays of hashes, sorts indices, appends with []', () => {
    const tree = JSON.parse(
      JSON.stringify(decodeForm('a[1][x]=2&a[0][x]=1&a[0][y]=3&b[]=p&b[]=q&c[d][e]=f')),
    ) as unknown;
    expect(tree).toEqual({ a: [{ x: '1', y: '3' }, { x: '2' }], b: ['p', 'q'], c: { d: { e: 'f' } } });
  });

  it('percent-decodes keys and values, + as space, brackets encoded or not', () => {
    expect({ ...decodeForm('n=a+b%20c&m%5Bk%5D=v&e=') }).toEqual({ n: 'a b c', m: expect.anything(), e: '' });
    expect(JSON.parse(JSON.stringify(decodeForm('m%5Bk%5D=v')))).toEqual({ m: { k: 'v' } });
  });

  it('keeps the last of repeated scalars, and treats __proto__ as data', () => {
    const tree = decodeForm('a=1&a=2&__proto__[x]=y');
    expect(tree.a).toBe('2');
    expect(Object.getPrototypeOf(tree)).toBeNull();
    expect(JSON.parse(JSON.stringify(tree))).toEqual({ a: '2', ['__proto__']: { x: 'y' } });
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });

  it.each([
    ['a[0]=1&a[2]=3', /no element at index 1/],
    ['a=1&a[b]=2', /mixed types/],
    ['a[b]=1&a=2', /also sent as a hash/],
    ['[x]=1', /Invalid parameter name/],
    ['a[b=1', /Invalid parameter name/],
    ['a[0]=1&a[b]=2', /mixed types/],
    ['a[0][x]=1&a[y][x]=2', /mixed types/],
    ['a=%E0%A4%A', /Invalid URL encoding/],
  ])('rejects %s', (input, message) => {
    expect(() => decodeForm(input)).toThrow(FormDecodeError);
    expect(() => decodeForm(input)).toThrow(message);
  });
});
