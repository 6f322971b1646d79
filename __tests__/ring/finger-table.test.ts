import { ID_BITS } from '../../src/ids'
import { FingerTable, type FingerUpdate } from '../../src/ring/finger-table'

describe('FingerTable: which rows it keeps', () => {
  it('chooses the top rows that matter for the estimated size, at most maxFingers, the same array while the choice is the same', () => {
    const table = new FingerTable(16)
    const small = table.chooseRows(1000) // log2 ≈ 10: rows 47 down to 37
    expect(small).toEqual(Array.from({ length: 11 }, (_, i) => ID_BITS - 1 - i))
    expect(table.chooseRows(1020)).toBe(small)
    const large = table.chooseRows(2 ** 20) // would be 27 rows: capped at 16
    expect(large).toHaveLength(16)
    expect(large[large.length - 1]).toBe(ID_BITS - 16)
    expect(table.chooseRows(1000)).not.toBe(large)
  })

  it('retain drops the rows outside the chosen set, also after a row outside it was set by hand', () => {
    const table = new FingerTable(16)
    const updates: FingerUpdate[] = []
    table.updates$.subscribe((u) => updates.push(u))
    const rows = table.chooseRows(1000)
    for (const row of [47, 40, 37]) table.set(row, row)
    table.retain(rows)
    expect(table.rows()).toEqual([37, 40, 47])
    // The ring looks bigger now: row 36 is chosen too; a smaller estimate drops it again.
    table.set(36, 36)
    table.retain(table.chooseRows(4000))
    expect(table.rows()).toEqual([36, 37, 40, 47])
    table.retain(table.chooseRows(1000))
    expect(table.rows()).toEqual([37, 40, 47])
    // A row no choice covers (updateFinger of any row) goes at the next retain, even with the same choice.
    table.set(20, 20)
    table.retain(table.chooseRows(1000))
    expect(table.rows()).toEqual([37, 40, 47])
    expect(updates.filter((u) => u.id === null).map((u) => u.row)).toEqual([36, 20])
  })
})
