namespace FlowOrleans.Transport.Records;

/// <summary>
/// Counts the pooled record buffers a connection has out and the bytes of their arrays, so a test can tell that every
/// one came back and the memory held for received data can be measured against its budget.
/// </summary>
internal interface IBufferAccounting
{
    void BufferRented(int bytes);

    void BufferReturned(int bytes);
}
