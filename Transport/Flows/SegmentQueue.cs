using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// A growable ring of receive slices whose head can be consumed in place (a partial read shortens it), which
/// <see cref="Queue{T}"/> cannot do. Starts small: an idle flow should cost little memory.
/// </summary>
internal sealed class SegmentQueue
{
    private ReceiveSegment[] _items = new ReceiveSegment[2];
    private int _head;
    private int _count;

    public int Count => _count;

    public ref ReceiveSegment Head => ref _items[_head];

    public void Enqueue(ReceiveSegment segment)
    {
        if (_count == _items.Length)
        {
            var grown = new ReceiveSegment[_items.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _items[(_head + i) % _items.Length];
            }

            _items = grown;
            _head = 0;
        }

        _items[(_head + _count) % _items.Length] = segment;
        _count++;
    }

    public ReceiveSegment Dequeue()
    {
        if (_count == 0)
        {
            throw new InvalidOperationException("The segment queue is empty.");
        }

        var item = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        _count--;
        return item;
    }
}
