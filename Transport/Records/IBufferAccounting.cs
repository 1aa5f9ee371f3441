namespace FlowOrleans.Transport.Records;

/// <summary>Counts the pooled record buffers a connection has out, so a test can tell that every one came back.</summary>
internal interface IBufferAccounting
{
    void BufferRented();

    void BufferReturned();
}
