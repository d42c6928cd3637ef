import { Writer } from '../../../bench/lib/writer';

describe('Writer outage arithmetic', () => {
  const writer = () => {
    const w = new Writer({ host: '127.0.0.1', port: 1, user: 'u', password: 'p' });
    w.acks.push(0, 10, 20, 600, 610, 2000, 2010);
    return w;
  };

  it('takes the longest gap between acknowledged commits that ends after the start', () => {
    expect(writer().outageAfter(15)).toBe(1390);
    expect(writer().outageAfter(2005)).toBe(10);
  });

  it('says whether anything was acknowledged after a time', () => {
    expect(writer().ackedAfter(2009)).toBe(true);
    expect(writer().ackedAfter(2010)).toBe(false);
    expect(new Writer({ host: '', port: 0, user: '', password: '' }).ackedAfter(0)).toBe(false);
  });
});
